//! Layers: the [`Layer`] trait, its implementations, and composition.
//!
//! A layer maps a batch of `B` input vectors to a batch of `B` output
//! vectors. Its input type is the trait's parameter and its output type an
//! associated type, so a composition ([`Chain`]) of two layers only exists
//! when the first one's output is the second one's input: shapes are checked
//! by the compiler, not at run time.
//!
//! Backpropagation takes two kinds of derivative (see [`Layer::backward`]):
//! with respect to a layer's **input**, carried backwards to the layer
//! before, and with respect to its **parameters**, stored in the layer's
//! gradient. Activations only have the first kind; [`Dense`] has both.

mod activation;
mod dense;

pub(crate) use activation::softmax;
pub use activation::{Identity, LeakyRelu, Relu, Sigmoid, Softmax, Tanh};
pub use dense::Dense;

use core::fmt;

use rand::Rng;

use crate::scalar::{Scalar, Vector, Zeroed};
use crate::tensors::{Parameters, Tensors};

/// A differentiable function from a batch of `X` vectors to a batch of
/// [`Output`](Layer::Output) vectors, with its backward pass.
///
/// Every method takes the batch size `B` as a const generic, so a batch of
/// samples goes through as matrix–matrix work, and a single sample is a
/// batch of one. Nothing here allocates: buffers live on the caller's stack.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{X}` as its input",
    label = "this layer does not accept an input of type `{X}`",
    note = "the output width of each layer must equal the input width of the next one"
)]
pub trait Layer<X: Vector>: Parameters<X::Scalar> {
    /// The vector this layer produces for one sample.
    type Output: Vector<Scalar = X::Scalar>;
    /// What the training forward pass keeps for the backward pass, beyond
    /// the layer's input and output (which the caller keeps): `()` for a
    /// single layer, the intermediate activations for a [`Chain`].
    type Trace<const B: usize>: Zeroed;

    /// How many layers this is made of: 1, or for a [`Chain`] the sum of
    /// its two parts.
    const DEPTH: usize = 1;

    /// The training forward pass: `y = f(x)` for a batch, keeping in `trace`
    /// what [`backward`](Layer::backward) will need.
    fn forward_train<const B: usize>(
        &self,
        x: &[X; B],
        y: &mut [Self::Output; B],
        trace: &mut Self::Trace<B>,
    );

    /// The inference forward pass: `y = f(x)` for a batch.
    #[inline]
    fn forward<const B: usize>(&self, x: &[X; B], y: &mut [Self::Output; B]) {
        let mut trace = Zeroed::ZERO;
        self.forward_train(x, y, &mut trace);
    }

    /// The backward pass, given the input `x`, output `y` and `trace` of
    /// [`forward_train`](Layer::forward_train) and the gradient `dy` of the
    /// loss with respect to `y`:
    ///
    /// 1. **adds** the gradient with respect to the parameters to `grad`
    ///    (the second kind of derivative: stored, not carried on);
    /// 2. if `dx` is given, **writes** the gradient with respect to the
    ///    input into it (the first kind: the running product of the chain
    ///    rule, carried back to the layer before). The first layer of a
    ///    network is called with `None`, which saves its largest product.
    fn backward<const B: usize>(
        &self,
        x: &[X; B],
        y: &[Self::Output; B],
        dy: &[Self::Output; B],
        trace: &Self::Trace<B>,
        grad: &mut Self::Grad,
        dx: Option<&mut [X; B]>,
    );
}

/// A weight initialisation scheme for dense layers. Biases start at zero.
///
/// Both draw weights uniformly from `[-a, a]`:
///
/// | scheme | `a` | suits |
/// |---|---|---|
/// | [`Xavier`](Init::Xavier) (Glorot) | `√(6 / (inputs + outputs))` | tanh, sigmoid, softmax, identity |
/// | [`He`](Init::He) (Kaiming) | `√(6 / inputs)` | ReLU, leaky ReLU |
///
/// These are PyTorch's `xavier_uniform_` and `kaiming_uniform_` (gain `√2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Init {
    /// Xavier/Glorot uniform.
    Xavier,
    /// He/Kaiming uniform.
    He,
}

impl Init {
    /// The bound `a` of the uniform distribution for a layer of this size.
    pub fn bound(self, inputs: usize, outputs: usize) -> f64 {
        let fan = match self {
            Init::Xavier => inputs + outputs,
            Init::He => inputs,
        };
        // `fan` is at least 1 for any layer that has weights.
        libm_sqrt(6.0 / fan.max(1) as f64)
    }

    /// One weight drawn from `[-a, a]`, as an `f64`.
    pub fn sample<R: Rng + ?Sized>(self, rng: &mut R, inputs: usize, outputs: usize) -> f64 {
        // 53 random bits give a uniform f64 in [0, 1).
        let unit = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        (2.0 * unit - 1.0) * self.bound(inputs, outputs)
    }
}

/// `sqrt` through whichever float backend is enabled.
fn libm_sqrt(x: f64) -> f64 {
    num_traits::Float::sqrt(x)
}

/// A layer that can be created with random parameters.
///
/// The default scheme of a dense layer is decided by the layer that follows
/// it: each layer says which scheme suits the dense layer before it
/// ([`INIT_BEFORE`](RandomInit::INIT_BEFORE)), so `Dense, Relu` starts with
/// He and `Dense, Tanh` with Xavier.
pub trait RandomInit: Sized {
    /// The scheme that suits a dense layer placed right before this layer.
    const INIT_BEFORE: Init = Init::Xavier;

    /// A layer with random parameters drawn from `rng`. Dense layers use
    /// `force` if it is given, and otherwise `next`, the scheme the
    /// following layer asks for.
    fn random_init<R: Rng + ?Sized>(rng: &mut R, force: Option<Init>, next: Init) -> Self;

    /// Draws this layer's parameters again, in place, as
    /// [`random_init`](RandomInit::random_init) would: for a large layer
    /// on the heap, no copy of it passes through the stack.
    fn randomize<R: Rng + ?Sized>(&mut self, rng: &mut R, force: Option<Init>, next: Init) {
        *self = Self::random_init(rng, force, next);
    }
}

/// Two layers in sequence: `B` applied to the output of `A`.
///
/// `Chain<A, B>` is a [`Layer`] only when `B` accepts `A`'s output, so a
/// composition that does not fit is a compile error. The `network!` macro
/// is sugar over nested chains; they can be built by hand too:
///
/// ```
/// use constnet::prelude::*;
///
/// let mut rng = SmallRng::seed_from_u64(1);
/// let layers = Dense::<f32, 2, 3>::random(&mut rng, Init::He)
///     .then(Relu)
///     .then(Dense::<f32, 3, 1>::random(&mut rng, Init::Xavier));
/// let mut y = [[0.0f32; 1]; 1];
/// layers.forward(&[[0.5, -0.5]], &mut y);
/// ```
///
/// ```compile_fail
/// use constnet::prelude::*;
///
/// let mut rng = SmallRng::seed_from_u64(1);
/// // A 2 → 3 layer followed by a 4 → 1 layer: does not compile.
/// let layers = Dense::<f32, 2, 3>::random(&mut rng, Init::He)
///     .then(Dense::<f32, 4, 1>::random(&mut rng, Init::Xavier));
/// let mut y = [[0.0f32; 1]; 1];
/// layers.forward(&[[0.5, -0.5]], &mut y);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Chain<A, B>(pub A, pub B);

impl<A, B> Chain<A, B> {
    /// `a` followed by `b`.
    pub const fn new(a: A, b: B) -> Self {
        Chain(a, b)
    }
}

/// Composition by method: `a.then(b)` is `Chain(a, b)`, checked where it
/// is written: `b` must accept `a`'s output.
///
/// `a` must have a single input type, so a chain that starts with an
/// activation (which accepts any width) is written `Chain(activation, b)`.
pub trait Then<X: Vector>: Layer<X> + Sized {
    /// This layer followed by `next`.
    fn then<N: Layer<Self::Output>>(self, next: N) -> Chain<Self, N> {
        Chain(self, next)
    }
}

impl<X: Vector, L: Layer<X>> Then<X> for L {}

impl<A: fmt::Debug, B: fmt::Debug> fmt::Debug for Chain<A, B> {
    /// Prints the layers in order, joined by arrows: `Dense<2→8> → Tanh`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} → {:?}", self.0, self.1)
    }
}

impl<A: Zeroed, B: Zeroed> Zeroed for Chain<A, B> {
    const ZERO: Self = Chain(A::ZERO, B::ZERO);
}

impl<T: Scalar, A: Tensors<T>, B: Tensors<T>> Tensors<T> for Chain<A, B> {
    const COUNT: usize = A::COUNT + B::COUNT;
    const LEN: usize = A::LEN + B::LEN;

    #[inline]
    fn tensor(&self, i: usize) -> &[T] {
        if i < A::COUNT {
            self.0.tensor(i)
        } else {
            self.1.tensor(i - A::COUNT)
        }
    }
    #[inline]
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        if i < A::COUNT {
            self.0.tensor_mut(i)
        } else {
            self.1.tensor_mut(i - A::COUNT)
        }
    }
    #[inline]
    fn for_each_tensor(&self, f: &mut impl FnMut(usize, &[T])) {
        self.0.for_each_tensor(f);
        self.1.for_each_tensor(&mut |i, t| f(A::COUNT + i, t));
    }
    #[inline]
    fn for_each_tensor_mut(&mut self, f: &mut impl FnMut(usize, &mut [T])) {
        self.0.for_each_tensor_mut(f);
        self.1.for_each_tensor_mut(&mut |i, t| f(A::COUNT + i, t));
    }
    #[inline]
    fn all_finite(&self) -> bool {
        self.0.all_finite() & self.1.all_finite()
    }
}

impl<T: Scalar, A: Parameters<T>, B: Parameters<T>> Parameters<T> for Chain<A, B> {
    type Grad = Chain<A::Grad, B::Grad>;
}

impl<A: RandomInit, B: RandomInit> RandomInit for Chain<A, B> {
    const INIT_BEFORE: Init = A::INIT_BEFORE;

    fn random_init<R: Rng + ?Sized>(rng: &mut R, force: Option<Init>, next: Init) -> Self {
        let a = A::random_init(rng, force, B::INIT_BEFORE);
        Chain(a, B::random_init(rng, force, next))
    }

    fn randomize<R: Rng + ?Sized>(&mut self, rng: &mut R, force: Option<Init>, next: Init) {
        self.0.randomize(rng, force, B::INIT_BEFORE);
        self.1.randomize(rng, force, next);
    }
}

/// The trace of a [`Chain`]: the traces of both layers and the activation
/// between them.
pub struct ChainTrace<TA, M, TB> {
    /// The first layer's trace.
    pub a: TA,
    /// The first layer's output, which is the second layer's input.
    pub mid: M,
    /// The second layer's trace.
    pub b: TB,
}

impl<TA: Zeroed, M: Zeroed, TB: Zeroed> Zeroed for ChainTrace<TA, M, TB> {
    const ZERO: Self = ChainTrace {
        a: TA::ZERO,
        mid: M::ZERO,
        b: TB::ZERO,
    };
}

impl<X, A, B> Layer<X> for Chain<A, B>
where
    X: Vector,
    A: Layer<X>,
    B: Layer<A::Output>,
{
    type Output = B::Output;
    type Trace<const N: usize> = ChainTrace<A::Trace<N>, [A::Output; N], B::Trace<N>>;

    const DEPTH: usize = A::DEPTH + B::DEPTH;

    #[inline(always)]
    fn forward_train<const N: usize>(
        &self,
        x: &[X; N],
        y: &mut [Self::Output; N],
        trace: &mut Self::Trace<N>,
    ) {
        if Self::DEPTH <= INLINE_DEPTH {
            self.forward_body(x, y, trace);
        } else {
            self.forward_outlined(x, y, trace);
        }
    }

    #[inline(always)]
    fn backward<const N: usize>(
        &self,
        x: &[X; N],
        y: &[Self::Output; N],
        dy: &[Self::Output; N],
        trace: &Self::Trace<N>,
        grad: &mut Self::Grad,
        dx: Option<&mut [X; N]>,
    ) {
        if Self::DEPTH <= INLINE_DEPTH {
            self.backward_body(x, y, dy, trace, grad, dx);
        } else {
            self.backward_outlined(x, y, dy, trace, grad, dx);
        }
    }
}

/// Chains of at most this many layers are inlined into their caller; a
/// deeper chain calls its first layer out of line. A fully inlined chain of
/// `L` layers is one function whose optimisation time grows like `L²`
/// (40 dense layers: 6.6 s against 1.6 s), while always calling out of line
/// costs a small network such as 2-8-1 about a sixth of its training speed.
const INLINE_DEPTH: usize = 8;

/// The passes of a chain, once as a body to inline and once out of line.
impl<A, B> Chain<A, B> {
    #[inline(always)]
    fn forward_body<X: Vector, const N: usize>(
        &self,
        x: &[X; N],
        y: &mut [B::Output; N],
        trace: &mut <Self as Layer<X>>::Trace<N>,
    ) where
        A: Layer<X>,
        B: Layer<A::Output>,
    {
        self.0.forward_train(x, &mut trace.mid, &mut trace.a);
        self.1.forward_train(&trace.mid, y, &mut trace.b);
    }

    #[inline(never)]
    fn forward_outlined<X: Vector, const N: usize>(
        &self,
        x: &[X; N],
        y: &mut [B::Output; N],
        trace: &mut <Self as Layer<X>>::Trace<N>,
    ) where
        A: Layer<X>,
        B: Layer<A::Output>,
    {
        self.forward_body(x, y, trace);
    }

    #[inline(always)]
    fn backward_body<X: Vector, const N: usize>(
        &self,
        x: &[X; N],
        y: &[B::Output; N],
        dy: &[B::Output; N],
        trace: &<Self as Layer<X>>::Trace<N>,
        grad: &mut <Self as Parameters<X::Scalar>>::Grad,
        dx: Option<&mut [X; N]>,
    ) where
        A: Layer<X>,
        B: Layer<A::Output>,
    {
        // The gradient with respect to the activation between the layers:
        // the running product of the chain rule at this point.
        let mut dmid = [<A::Output as Zeroed>::ZERO; N];
        self.1
            .backward(&trace.mid, y, dy, &trace.b, &mut grad.1, Some(&mut dmid));
        self.0
            .backward(x, &trace.mid, &dmid, &trace.a, &mut grad.0, dx);
    }

    #[inline(never)]
    fn backward_outlined<X: Vector, const N: usize>(
        &self,
        x: &[X; N],
        y: &[B::Output; N],
        dy: &[B::Output; N],
        trace: &<Self as Layer<X>>::Trace<N>,
        grad: &mut <Self as Parameters<X::Scalar>>::Grad,
        dx: Option<&mut [X; N]>,
    ) where
        A: Layer<X>,
        B: Layer<A::Output>,
    {
        self.backward_body(x, y, dy, trace, grad, dx);
    }
}
