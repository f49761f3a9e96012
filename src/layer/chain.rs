//! [`Chain`]: two layers in sequence, and the list of layers it makes.

use core::fmt::{self, Write};

use rand::Rng;

use super::{Init, Layer, LayerInfo, LayerKind, TensorInfo};
use crate::scalar::{Scalar, Vector};
use crate::tensors::Tensors;

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
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, bytemuck::Zeroable)]
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
    /// This layer followed by `next`: a `Chain<Self, N>`.
    ///
    /// (The return type is written through `next`'s output, so that when
    /// `next` does not fit, the error is reported here and not again where
    /// the chain is used.)
    fn then<N: Layer<Self::Output>>(
        self,
        next: N,
    ) -> <<N as Layer<Self::Output>>::Output as ChainOf<Self, N>>::Chain {
        Chain(self, next)
    }
}

impl<X: Vector, L: Layer<X>> Then<X> for L {}

/// `Chain<A, B>`, for every `Self`: see [`Then::then`].
#[doc(hidden)]
pub trait ChainOf<A, B> {
    /// `Chain<A, B>`.
    type Chain;
}

impl<Y: ?Sized, A, B> ChainOf<A, B> for Y {
    type Chain = Chain<A, B>;
}

impl<A: fmt::Debug, B: fmt::Debug> fmt::Debug for Chain<A, B> {
    /// Prints the layers in order, joined by arrows: `Dense<2→8> → Tanh`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} → {:?}", self.0, self.1)
    }
}

impl<T: Scalar, A: Tensors<T>, B: Tensors<T>> Tensors<T> for Chain<A, B> {
    const COUNT: usize = A::COUNT + B::COUNT;
    const LEN: usize = A::LEN + B::LEN;

    #[inline(always)]
    fn tensor(&self, i: usize) -> &[T] {
        if i < A::COUNT {
            self.0.tensor(i)
        } else {
            self.1.tensor(i - A::COUNT)
        }
    }
    #[inline(always)]
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
    #[inline(always)]
    fn for_each_tensor_mut(&mut self, f: &mut impl FnMut(usize, &mut [T])) {
        self.0.for_each_tensor_mut(f);
        // Inlined into a training step's vectorised frame, where the
        // compiler would otherwise leave the walk's closures as calls.
        self.1.for_each_tensor_mut(&mut crate::tensors::walk_mut(
            #[inline(always)]
            |i, t| f(A::COUNT + i, t),
        ));
    }
    #[inline]
    fn all_finite(&self) -> bool {
        self.0.all_finite() & self.1.all_finite()
    }
}

/// The trace of a [`Chain`]: the traces of both layers and the activation
/// between them. 64-byte aligned on x86-64, like [`Dense`](super::Dense),
/// so that the activation, the next layer's input, starts on a cache line
/// (the first layer's trace, nothing for most layers, comes before it).
#[derive(bytemuck::Zeroable)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct ChainTrace<TA, M, TB> {
    /// The first layer's trace.
    pub a: TA,
    /// The first layer's output, which is the second layer's input.
    pub mid: M,
    /// The second layer's trace.
    pub b: TB,
}

/// A chain computes `B(A(x))`. As a list of layers it is the layers of
/// `A`, then those of `B`: layer `i` of the chain is layer `i` of `A` when
/// `i < A::LAYERS` and layer `i - A::LAYERS` of `B` otherwise. Its own
/// [`KIND`](Layer::KIND) is only a name: every format reads its layers.
impl<X, A, B> Layer<X> for Chain<A, B>
where
    X: Vector,
    A: Layer<X>,
    B: Layer<A::Output>,
{
    const KIND: LayerKind = LayerKind::named("Chain");
    const INIT_BEFORE: Init = A::INIT_BEFORE;

    type Output = B::Output;
    type Trace<const N: usize> = ChainTrace<A::Trace<N>, [A::Output; N], B::Trace<N>>;

    const DEPTH: usize = A::DEPTH + B::DEPTH;

    #[inline]
    fn map(&self, x: &X) -> B::Output {
        self.1.map(&self.0.map(x))
    }

    #[inline]
    fn grad(&self, x: &X, y: &B::Output, dy: &B::Output, grad: &mut Self) -> X {
        let mid = self.0.map(x);
        let dmid = self.1.grad(&mid, y, dy, &mut grad.1);
        self.0.grad(x, &mid, &dmid, &mut grad.0)
    }

    const LAYERS: usize = A::LAYERS + B::LAYERS;
    const LAST_KIND: LayerKind = B::LAST_KIND;
    const MAX_WIDTH: usize = if A::MAX_WIDTH > B::MAX_WIDTH {
        A::MAX_WIDTH
    } else {
        B::MAX_WIDTH
    };
    const NAME_BYTES: usize = A::NAME_BYTES + B::NAME_BYTES;

    fn layer(index: usize) -> Option<LayerInfo> {
        match index.checked_sub(A::LAYERS) {
            None => A::layer(index),
            Some(rest) => B::layer(rest),
        }
    }
    fn tensor_info(index: usize, i: usize) -> Option<TensorInfo> {
        match index.checked_sub(A::LAYERS) {
            None => A::tensor_info(index, i),
            Some(rest) => B::tensor_info(rest, i),
        }
    }
    fn setting(&self, index: usize) -> Option<f32> {
        match index.checked_sub(A::LAYERS) {
            None => self.0.setting(index),
            Some(rest) => self.1.setting(rest),
        }
    }
    fn set_setting(&mut self, index: usize, value: f32) -> bool {
        match index.checked_sub(A::LAYERS) {
            None => self.0.set_setting(index, value),
            Some(rest) => self.1.set_setting(rest, value),
        }
    }
    fn randomize<R: Rng + ?Sized>(&mut self, rng: &mut R, force: Option<Init>, next: Init) {
        self.0.randomize(rng, force, B::INIT_BEFORE);
        self.1.randomize(rng, force, next);
    }
    #[inline(never)]
    fn random_layers<R: Rng + ?Sized>(rng: &mut R, force: Option<Init>, next: Init) -> Self {
        let a = A::random_layers(rng, force, B::INIT_BEFORE);
        Chain(a, B::random_layers(rng, force, next))
    }
    fn write_types(out: &mut dyn Write) -> fmt::Result {
        A::write_types(out)?;
        out.write_str(", ")?;
        B::write_types(out)
    }
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        out.write_str("::constnet::Chain(")?;
        self.0.write_value(out)?;
        out.write_str(", ")?;
        self.1.write_value(out)?;
        out.write_char(')')
    }

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
        grad: &mut Self,
        dx: Option<&mut [X; N]>,
    ) {
        self.backward_pass::<X, N, true>(x, y, dy, trace, grad, dx);
    }

    #[inline(always)]
    fn backward_overwrite<const N: usize>(
        &self,
        x: &[X; N],
        y: &[Self::Output; N],
        dy: &[Self::Output; N],
        trace: &Self::Trace<N>,
        grad: &mut Self,
        dx: Option<&mut [X; N]>,
    ) {
        self.backward_pass::<X, N, false>(x, y, dy, trace, grad, dx);
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

    /// The backward pass of both parts: each adds its parameter gradient
    /// with `ACC` ([`Layer::backward`]), writes it without
    /// ([`Layer::backward_overwrite`]).
    #[inline(always)]
    fn backward_pass<X: Vector, const N: usize, const ACC: bool>(
        &self,
        x: &[X; N],
        y: &[B::Output; N],
        dy: &[B::Output; N],
        trace: &<Self as Layer<X>>::Trace<N>,
        grad: &mut Self,
        dx: Option<&mut [X; N]>,
    ) where
        A: Layer<X>,
        B: Layer<A::Output>,
    {
        if <Self as Layer<X>>::DEPTH <= INLINE_DEPTH {
            self.backward_body::<X, N, ACC>(x, y, dy, trace, grad, dx);
        } else {
            self.backward_outlined::<X, N, ACC>(x, y, dy, trace, grad, dx);
        }
    }

    #[inline(always)]
    fn backward_body<X: Vector, const N: usize, const ACC: bool>(
        &self,
        x: &[X; N],
        y: &[B::Output; N],
        dy: &[B::Output; N],
        trace: &<Self as Layer<X>>::Trace<N>,
        grad: &mut Self,
        dx: Option<&mut [X; N]>,
    ) where
        A: Layer<X>,
        B: Layer<A::Output>,
    {
        // The gradient with respect to the activation between the layers:
        // the running product of the chain rule at this point.
        let mut dmid: crate::simd::Aligned<[A::Output; N]> = crate::Zeroed::ZERO;
        let dmid = &mut dmid.0;
        let (mid, dmid_out) = (&trace.mid, Some(&mut *dmid));
        if ACC {
            self.1.backward(mid, y, dy, &trace.b, &mut grad.1, dmid_out);
            self.0.backward(x, mid, dmid, &trace.a, &mut grad.0, dx);
        } else {
            self.1
                .backward_overwrite(mid, y, dy, &trace.b, &mut grad.1, dmid_out);
            self.0
                .backward_overwrite(x, mid, dmid, &trace.a, &mut grad.0, dx);
        }
    }

    #[inline(never)]
    fn backward_outlined<X: Vector, const N: usize, const ACC: bool>(
        &self,
        x: &[X; N],
        y: &[B::Output; N],
        dy: &[B::Output; N],
        trace: &<Self as Layer<X>>::Trace<N>,
        grad: &mut Self,
        dx: Option<&mut [X; N]>,
    ) where
        A: Layer<X>,
        B: Layer<A::Output>,
    {
        self.backward_body::<X, N, ACC>(x, y, dy, trace, grad, dx);
    }
}
