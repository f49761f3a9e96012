//! The `network!` macro.

/// Builds a named network type from its input width and a list of layers.
///
/// ```
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-8-1 XOR classifier.
///     pub struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
/// }
///
/// let mut rng = SmallRng::seed_from_u64(7);
/// let net = Xor::random(&mut rng);
/// let y: [f32; 1] = net.predict(&[1.0, 0.0]);
/// assert!(0.0 < y[0] && y[0] < 1.0);
/// assert_eq!(Xor::PARAMETERS, 2 * 8 + 8 + 8 * 1 + 1);
/// ```
///
/// The syntax is `struct Name<Scalar> { inputs => layer, layer, … }`, with
/// attributes and doc comments before `struct` and any visibility. A layer
/// is one of:
///
/// - `Dense<O>`: a dense layer with `O` outputs, whose input width is the
///   width so far;
/// - `Dense<I, O>`: the same with its input width written out, which the
///   compiler checks against the width so far;
/// - any other type that keeps the width: an activation ([`Identity`],
///   [`Relu`], [`LeakyRelu`], [`Sigmoid`], [`Tanh`], [`Softmax`]) or a
///   layer of your own that implements [`Layer`] and [`RandomInit`].
///
/// Widths are anything that fits in one token tree: a literal, a constant's
/// name, or a braced expression (`{ 28 * 28 }`).
///
/// The type is a struct around a [`Chain`] of the layers. It implements
/// [`Network`] (and so [`Train`](crate::Train)), [`Layer`] (so networks
/// compose), `Clone`, `PartialEq` and a `Debug` that prints the layers, not
/// the numbers. It has a `const fn new(layers)`, so trained parameters can
/// be written as literals into a `static`. Nothing in it allocates or uses
/// trait objects.
///
/// A small invocation, `struct Net<f32> { 2 => Dense<3>, Relu }`, expands
/// to (paths shortened):
///
/// ```text
/// #[derive(Clone, PartialEq)]
/// struct Net { layers: Chain<Dense<f32, 2, 3>, Relu> }
/// impl Net { const fn new(layers: Chain<Dense<f32, 2, 3>, Relu>) -> Self { … } }
/// impl Network for Net { type Input = [f32; 2]; type Layers = Chain<…>; … }
/// impl Layer<[f32; 2]> for Net { type Grad = Gradients<Net>; … }  // delegates
/// impl Tensors<f32> for Net { … }  impl RandomInit for Net { … }
/// impl Debug for Net { … }
/// ```
///
/// Layers that do not fit together do not compile:
///
/// ```compile_fail
/// use constnet::prelude::*;
///
/// network! {
///     /// The second dense layer expects 4 inputs but gets 8.
///     struct Broken<f32> { 2 => Dense<8>, Relu, Dense<4, 1> }
/// }
/// let net = Broken::random(&mut SmallRng::seed_from_u64(0));
/// ```
///
/// [`Identity`]: crate::layer::Identity
/// [`Relu`]: crate::layer::Relu
/// [`LeakyRelu`]: crate::layer::LeakyRelu
/// [`Sigmoid`]: crate::layer::Sigmoid
/// [`Tanh`]: crate::layer::Tanh
/// [`Softmax`]: crate::layer::Softmax
/// [`Layer`]: crate::Layer
/// [`RandomInit`]: crate::layer::RandomInit
/// [`Chain`]: crate::Chain
/// [`Network`]: crate::Network
#[macro_export]
macro_rules! network {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident < $t:ty > { $input:tt => $($layers:tt)* }
    ) => {
        $crate::network!(
            @munch { $(#[$meta])* $vis $name } ($t) ($input) [$input] [] [] [] $($layers)*
        );
    };

    // internal rules

    // @munch {header} (scalar) (input width) [width so far] [open] [close] [last] rest
    //
    // Reads one layer at a time and turns it into its full type, keeping the
    // width so far. The chain `Chain<L1, Chain<L2, L3>>` is built as the
    // tokens `[Chain<L1, Chain<L2,]`, the pending last layer `[L3]` and the
    // closing `[> >]`: each layer costs one expansion, so deep networks stay
    // within the recursion limit. Each kind of layer has two rules: one for
    // the first layer (`[]` pending), one for the layers after it.

    // `Dense<O>`: its input width is the width so far.
    (@munch $h:tt ($t:ty) $i:tt [$w:tt] [] [] []
        Dense < $o:tt > $(, $($rest:tt)*)?) => {
        $crate::network!(@munch $h ($t) $i [$o] [] [] [$crate::Dense<$t, $w, $o>]
            $($($rest)*)?);
    };
    (@munch $h:tt ($t:ty) $i:tt [$w:tt] [$($open:tt)*] [$($close:tt)*] [$last:ty]
        Dense < $o:tt > $(, $($rest:tt)*)?) => {
        $crate::network!(@munch $h ($t) $i [$o]
            [$($open)* $crate::Chain<$last,] [$($close)* >] [$crate::Dense<$t, $w, $o>]
            $($($rest)*)?);
    };
    // `Dense<I, O>`: written out; the compiler checks `I` against the width so far.
    (@munch $h:tt ($t:ty) $i:tt [$w:tt] [] [] []
        Dense < $a:tt, $o:tt > $(, $($rest:tt)*)?) => {
        $crate::network!(@munch $h ($t) $i [$o] [] [] [$crate::Dense<$t, $a, $o>]
            $($($rest)*)?);
    };
    (@munch $h:tt ($t:ty) $i:tt [$w:tt] [$($open:tt)*] [$($close:tt)*] [$last:ty]
        Dense < $a:tt, $o:tt > $(, $($rest:tt)*)?) => {
        $crate::network!(@munch $h ($t) $i [$o]
            [$($open)* $crate::Chain<$last,] [$($close)* >] [$crate::Dense<$t, $a, $o>]
            $($($rest)*)?);
    };
    // No layers left: emit the type.
    (@munch $h:tt ($t:ty) ($input:tt) [$w:tt] [$($open:tt)*] [$($close:tt)*] [$last:ty]) => {
        $crate::network!(@emit $h ($t) ($input) ($w) ($($open)* $last $($close)*));
    };
    // Any other layer keeps the width.
    (@munch $h:tt ($t:ty) $i:tt [$w:tt] [] [] []
        $layer:ty $(, $($rest:tt)*)?) => {
        $crate::network!(@munch $h ($t) $i [$w] [] [] [$layer] $($($rest)*)?);
    };
    (@munch $h:tt ($t:ty) $i:tt [$w:tt] [$($open:tt)*] [$($close:tt)*] [$last:ty]
        $layer:ty $(, $($rest:tt)*)?) => {
        $crate::network!(@munch $h ($t) $i [$w]
            [$($open)* $crate::Chain<$last,] [$($close)* >] [$layer] $($($rest)*)?);
    };

    // @emit {header} (scalar) (input width) (output width) (layers type): the
    // struct and its impls. Only the `Network` impl states that the layers fit,
    // so a chain that does not fit is reported once, there; the `Layer` impl is
    // generic with the same fact as a where-clause, and simply does not apply.
    (@emit { $(#[$meta:meta])* $vis:vis $name:ident } ($t:ty) ($input:tt) ($output:tt) ($layers:ty)) => {
        $crate::__network_serde!($name);
        $(#[$meta])*
        #[derive(Clone, PartialEq)]
        $vis struct $name {
            layers: $layers,
        }

        impl $name {
            /// The network made of these layers. `const`, so parameters
            /// written as literals can live in a `static` (in flash).
            #[allow(dead_code)]
            $vis const fn new(layers: $layers) -> Self {
                Self { layers }
            }
        }

        impl $crate::Network for $name {
            type Scalar = $t;
            type Input = [$t; $input];
            type Output = [$t; $output];
            type Layers = $layers;

            fn layers(&self) -> &$layers {
                &self.layers
            }
            fn layers_mut(&mut self) -> &mut $layers {
                &mut self.layers
            }
            fn from_layers(layers: $layers) -> Self {
                Self { layers }
            }
        }

        impl<X> $crate::Layer<X> for $name
        where
            X: $crate::Vector<Scalar = $t>,
            $layers: $crate::Layer<X>,
        {
            type Output = <$layers as $crate::Layer<X>>::Output;
            type Trace<const B: usize> = <$layers as $crate::Layer<X>>::Trace<B>;
            const DEPTH: usize = <$layers as $crate::Layer<X>>::DEPTH;

            #[inline]
            fn forward_train<const B: usize>(
                &self,
                x: &[X; B],
                y: &mut [Self::Output; B],
                trace: &mut Self::Trace<B>,
            ) {
                self.layers.forward_train(x, y, trace)
            }

            #[inline]
            fn backward<const B: usize>(
                &self,
                x: &[X; B],
                y: &[Self::Output; B],
                dy: &[Self::Output; B],
                trace: &Self::Trace<B>,
                grad: &mut $crate::Gradients<$name>,
                dx: ::core::option::Option<&mut [X; B]>,
            ) {
                self.layers.backward(x, y, dy, trace, &mut grad.0, dx)
            }
        }

        // SAFETY: the struct's only field is the layers; the bound (made
        // higher-ranked so that it may be false without an error) makes the
        // impl apply only when all-zero layers are valid.
        unsafe impl $crate::heap::ZeroBits for $name
        where
            for<'a> $layers: $crate::heap::ZeroBits,
        {
        }

        impl $crate::Parameters<$t> for $name {
            type Grad = $crate::Gradients<$name>;
        }

        impl $crate::Tensors<$t> for $name {
            const COUNT: usize = <$layers as $crate::Tensors<$t>>::COUNT;
            const LEN: usize = <$layers as $crate::Tensors<$t>>::LEN;

            fn tensor(&self, i: usize) -> &[$t] {
                self.layers.tensor(i)
            }
            fn tensor_mut(&mut self, i: usize) -> &mut [$t] {
                self.layers.tensor_mut(i)
            }
            #[inline]
            fn for_each_tensor(&self, f: &mut impl FnMut(usize, &[$t])) {
                self.layers.for_each_tensor(f);
            }
            #[inline]
            fn for_each_tensor_mut(&mut self, f: &mut impl FnMut(usize, &mut [$t])) {
                self.layers.for_each_tensor_mut(f);
            }
            #[inline]
            fn all_finite(&self) -> bool {
                self.layers.all_finite()
            }
        }

        impl $crate::layer::RandomInit for $name {
            const INIT_BEFORE: $crate::Init =
                <$layers as $crate::layer::RandomInit>::INIT_BEFORE;

            fn random_init<R: $crate::rand::Rng + ?Sized>(
                rng: &mut R,
                force: ::core::option::Option<$crate::Init>,
                next: $crate::Init,
            ) -> Self {
                Self { layers: $crate::layer::RandomInit::random_init(rng, force, next) }
            }

            fn randomize<R: $crate::rand::Rng + ?Sized>(
                &mut self,
                rng: &mut R,
                force: ::core::option::Option<$crate::Init>,
                next: $crate::Init,
            ) {
                $crate::layer::RandomInit::randomize(&mut self.layers, rng, force, next)
            }
        }

        impl ::core::fmt::Debug for $name {
            /// Prints the layers, not the parameters.
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::write!(f, "{}[{:?}]", ::core::stringify!($name), self.layers)
            }
        }
    };
}
