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
/// - `Dense<T, I, O>`: the same with the scalar type written too, which
///   must be the network's (another one is a single error that names
///   both);
/// - a layer with its setting written in place, `LeakyRelu(0.2)`: the
///   network's layer starts with that setting (from `random`,
///   `random_boxed` or a PyTorch import; see `Network::write_settings`),
///   where `LeakyRelu` alone has the default slope. Only a layer with a
///   setting takes one (`Relu(0.2)` fails to build, with a message that
///   says so);
/// - any other layer type: an activation ([`Identity`], [`Relu`],
///   [`LeakyRelu`], [`Sigmoid`], [`Tanh`], [`Softmax`]), a layer of your
///   own (see [`layer`](crate::layer#writing-your-own-layer)), or another
///   network. Its output width comes from its type (`<L as
///   Layer<[T; W]>>::Output`), so layers that change the width work
///   anywhere in the list.
///
/// Widths are anything that fits in one token tree: a literal, a constant's
/// name, or a braced expression (`{ 28 * 28 }`).
///
/// The type is a struct around a [`Chain`] of the layers. It implements
/// [`Network`] (and so [`Train`](crate::Train) and [`Save`](crate::Save)),
/// [`SaveArray`](crate::SaveArray) (encoding into an array of its exact
/// length), [`Layer`] (so a network can be a layer of another), `Clone`,
/// `PartialEq` (when its layers have it), [`Zeroable`](bytemuck::Zeroable)
/// and a `Debug` that prints the layers, not the numbers. It has a `const fn new(layers)`, so trained parameters can
/// be written as literals into a `static`. Nothing in it allocates or uses
/// trait objects.
///
/// A small invocation, `struct Net<f32> { 2 => Dense<3>, Relu }`, expands
/// to (paths shortened):
///
/// ```text
/// #[derive(Clone)]
/// struct Net { layers: Chain<Dense<f32, 2, 3>, Relu> }
/// impl Net { const fn new(layers: Chain<Dense<f32, 2, 3>, Relu>) -> Self { … } }
/// impl Network for Net { type Input = [f32; 2]; type Layers = Chain<…>; … }
/// impl Layer<[f32; 2]> for Net { … }         // these delegate to the layers
/// impl Tensors<f32> for Net { … }
/// impl LayerAt<0> for Net { type Layer = Dense<f32, 2, 3>; … }  // net.layer::<0>()
/// impl LayerAt<1> for Net { type Layer = Relu; … }
/// impl SaveArray for Net { type Bytes = [u8; 94]; } // net.to_bytes()
/// unsafe impl Zeroable for Net {}           // its one field is Zeroable
/// impl PartialEq for Net { … }  impl Debug for Net { … }
/// ```
///
/// The generated code names its own generic parameters so that they
/// cannot be confused with your types or constants, whatever their names.
///
/// Layers that do not fit together do not compile, and neither does a
/// network of 0 inputs or a `Dense<0>`: those two are checked where the
/// network is written, by `cargo check`.
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
/// [`Chain`]: crate::Chain
/// [`Network`]: crate::Network
#[macro_export]
macro_rules! network {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident < $t:ty > { $input:tt => $($layers:tt)* }
    ) => {
        const _: () = ::core::assert!(
            ($input) > 0,
            "a network of 0 inputs computes a constant: its input width must be at least 1"
        );
        $crate::network!(
            @munch { $(#[$meta])* $vis $name } [{} (0) () {}] ($t) ($input) [$input] [] [] []
            $($layers)*
        );
    };

    // internal rules

    // @munch {header} [positions] (scalar) (input width) [width so far] [open] [close] [last] rest
    //
    // Reads one layer at a time and turns it into its full type, keeping the
    // width so far. The chain `Chain<L1, Chain<L2, L3>>` is built as the
    // tokens `[Chain<L1, Chain<L2,]`, the pending last layer `[L3]` and the
    // closing `[> >]`: each layer costs one expansion, so deep networks stay
    // within the recursion limit. A layer becomes the pending one through
    // `@push`, which moves the previous pending layer into the chain.
    //
    // [positions] is `[{ (index) (type) (path) … } (index) (path) { settings }]`:
    // each layer already in the chain with its index and its path from the
    // chain (`.1 .1 .0`), then the pending layer's index and path so far,
    // then the settings written in place, `(index) (width) (type) (value)`.

    // `Dense<O>`: its input width is the width so far.
    (@munch $h:tt $pos:tt ($t:ty) $i:tt [$w:tt] $open:tt $close:tt $last:tt
        Dense < $o:tt > $(, $($rest:tt)*)?) => {
        $crate::network!(@outputs $o);
        $crate::network!(@push $h $pos ($t) $i [$o] $open $close $last
            [$crate::Dense<$t, $w, $o>] $($($rest)*)?);
    };
    // `Dense<I, O>`: written out; the compiler checks `I` against the width so far.
    (@munch $h:tt $pos:tt ($t:ty) $i:tt [$w:tt] $open:tt $close:tt $last:tt
        Dense < $a:tt, $o:tt > $(, $($rest:tt)*)?) => {
        $crate::network!(@outputs $o);
        $crate::network!(@push $h $pos ($t) $i [$o] $open $close $last
            [$crate::Dense<$t, $a, $o>] $($($rest)*)?);
    };
    // `Dense<S, I, O>`: written out in full, scalar type included. The layer
    // is the network's own `Dense<T, I, O>`, and a separate item checks that
    // `S` is `T`, so another scalar type is one error that says so.
    (@munch $h:tt $pos:tt ($t:ty) $i:tt [$w:tt] $open:tt $close:tt $last:tt
        Dense < $s:ty, $a:tt, $o:tt > $(, $($rest:tt)*)?) => {
        $crate::network!(@outputs $o);
        const _: () = $crate::network::same_scalar::<$s, $t>();
        $crate::network!(@push $h $pos ($t) $i [$o] $open $close $last
            [$crate::Dense<$t, $a, $o>] $($($rest)*)?);
    };
    // A dense layer's output width, checked where the network is written
    // (by `cargo check`): `Dense<0>` computes nothing. `Dense` checks it
    // too, when built, for layers chained by hand.
    (@outputs $o:tt) => {
        const _: () = ::core::assert!(
            ($o) > 0,
            "a dense layer of 0 outputs computes nothing: every `Dense<O>` needs O ≥ 1"
        );
    };
    // No layers left: emit the type.
    (@munch $h:tt [{ $($at:tt)* } ($($k:tt)*) ($($p:tt)*) $settings:tt] ($t:ty) ($input:tt)
        [$w:tt] [$($open:tt)*] [$($close:tt)*] [$last:ty]) => {
        $crate::network!(@emit $h ($t) ($input) ($w) ($($open)* $last $($close)*) $settings);
        $crate::network!(@at $h ($($open)* $last $($close)*) $($at)* (($($k)*) ($last) ($($p)*)));
    };
    // A layer with its setting written in place (`LeakyRelu(0.2)`): the
    // type, and the value that `Network::write_settings` gives it.
    (@munch $h:tt $pos:tt ($t:ty) $i:tt [$w:tt] $open:tt $close:tt $last:tt
        $layer:ident ( $value:expr ) $(, $($rest:tt)*)?) => {
        $crate::network!(@push $h $pos ($t) $i
            [{ <<$layer as $crate::Layer<[$t; $w]>>::Output as $crate::Vector>::LEN }]
            $open $close $last [$layer] ($w $value) $($($rest)*)?);
    };
    // Any other layer: its output width is what its type says.
    (@munch $h:tt $pos:tt ($t:ty) $i:tt [$w:tt] $open:tt $close:tt $last:tt
        $layer:ty $(, $($rest:tt)*)?) => {
        $crate::network!(@push $h $pos ($t) $i
            [{ <<$layer as $crate::Layer<[$t; $w]>>::Output as $crate::Vector>::LEN }]
            $open $close $last [$layer] $($($rest)*)?);
    };

    // @push ... [new layer] rest: the new layer becomes the pending one; the
    // previous one, if any, opens a chain.
    // A setting written in place comes as `(width value)` after the layer.
    (@push $h:tt [$at:tt ($($k:tt)*) $p:tt { $($s:tt)* }] ($t:ty) $i:tt $w:tt
        [] [] [] [$new:ty] ($width:tt $value:expr) $($rest:tt)*) => {
        $crate::network!(@munch $h [$at ($($k)*) $p { $($s)* (($($k)*) ($width) ($new) ($value)) }]
            ($t) $i $w [] [] [$new] $($rest)*);
    };
    (@push $h:tt $pos:tt ($t:ty) $i:tt $w:tt [] [] [] [$new:ty] $($rest:tt)*) => {
        $crate::network!(@munch $h $pos ($t) $i $w [] [] [$new] $($rest)*);
    };
    (@push $h:tt [{ $($at:tt)* } ($($k:tt)*) ($($p:tt)*) { $($s:tt)* }] ($t:ty) $i:tt $w:tt
        [$($open:tt)*] [$($close:tt)*] [$last:ty] [$new:ty] ($width:tt $value:expr)
        $($rest:tt)*) => {
        $crate::network!(@munch $h
            [{ $($at)* (($($k)*) ($last) ($($p)* . 0)) } ($($k)* + 1) ($($p)* . 1)
                { $($s)* (($($k)* + 1) ($width) ($new) ($value)) }]
            ($t) $i $w
            [$($open)* $crate::Chain<$last,] [$($close)* >] [$new] $($rest)*);
    };
    (@push $h:tt [{ $($at:tt)* } ($($k:tt)*) ($($p:tt)*) $s:tt] ($t:ty) $i:tt $w:tt
        [$($open:tt)*] [$($close:tt)*] [$last:ty] [$new:ty] $($rest:tt)*) => {
        $crate::network!(@munch $h
            [{ $($at)* (($($k)*) ($last) ($($p)* . 0)) } ($($k)* + 1) ($($p)* . 1) $s]
            ($t) $i $w
            [$($open)* $crate::Chain<$last,] [$($close)* >] [$new] $($rest)*);
    };

    // @at {header} (layers type) ((index) (type) (path))…: layer `index`
    // of the network, as written, for `Network::layer::<index>()`.
    (@at { $(#[$meta:meta])* $vis:vis $name:ident } ($layers:ty)
        $((($($k:tt)*) ($layer:ty) ($($p:tt)*)))*) => {
        $(
            impl $crate::network::LayerAt<{ $($k)* }> for $name {
                type Layer = $layer;

                #[inline]
                fn layer_at(&self) -> &$layer {
                    &self.layers $($p)*
                }

                #[inline]
                fn layer_at_mut(&mut self) -> &mut $layer {
                    &mut self.layers $($p)*
                }
            }
        )*
    };

    // @emit {header} (scalar) (input width) (output width) (layers type): the
    // struct and its impls. Only the `Network` impl states that the layers fit,
    // so a chain that does not fit is reported once, there; the other impls
    // state it as a higher-ranked bound, which may be false without an error
    // of its own. The impls' generic parameters are named `__CONSTNET_*` and every const argument
    // is braced, so no name from the caller's module can capture them.
    (@emit { $(#[$meta:meta])* $vis:vis $name:ident } ($t:ty) ($input:tt) ($output:tt) ($layers:ty)
        { $((($($sk:tt)*) ($sw:tt) ($slayer:ty) ($svalue:expr)))* }) => {
        $crate::__network_serde!($name);
        $(#[$meta])*
        #[derive(Clone)]
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
            fn write_settings(&mut self) {
                $(
                    $crate::layer::write_setting::<[$t; $sw], $slayer>(
                        $crate::network::LayerAt::<{ $($sk)* }>::layer_at_mut(self),
                        $svalue,
                    );
                )*
            }
        }

        impl $crate::Layer<[$t; $input]> for $name
        where
            for<'__constnet> $layers: $crate::Layer<[$t; $input]>,
        {
            const KIND: $crate::layer::LayerKind =
                $crate::layer::LayerKind::named(::core::stringify!($name));
            const INIT_BEFORE: $crate::Init = <$layers as $crate::Layer<[$t; $input]>>::INIT_BEFORE;
            type Output = <$layers as $crate::Layer<[$t; $input]>>::Output;
            type Trace<const __CONSTNET_B: usize> =
                <$layers as $crate::Layer<[$t; $input]>>::Trace<{ __CONSTNET_B }>;
            const DEPTH: usize = <$layers as $crate::Layer<[$t; $input]>>::DEPTH;
            const LAYERS: usize = <$layers as $crate::Layer<[$t; $input]>>::LAYERS;
            const LAST_KIND: $crate::layer::LayerKind =
                <$layers as $crate::Layer<[$t; $input]>>::LAST_KIND;
            const MAX_WIDTH: usize = <$layers as $crate::Layer<[$t; $input]>>::MAX_WIDTH;
            const NAME_BYTES: usize = <$layers as $crate::Layer<[$t; $input]>>::NAME_BYTES;

            #[inline]
            fn map(&self, x: &[$t; $input]) -> Self::Output {
                $crate::Layer::map(&self.layers, x)
            }

            #[inline]
            fn grad(
                &self,
                x: &[$t; $input],
                y: &Self::Output,
                dy: &Self::Output,
                grad: &mut Self,
            ) -> [$t; $input] {
                $crate::Layer::grad(&self.layers, x, y, dy, &mut grad.layers)
            }

            #[inline]
            fn forward_train<const __CONSTNET_B: usize>(
                &self,
                x: &[[$t; $input]; __CONSTNET_B],
                y: &mut [Self::Output; __CONSTNET_B],
                trace: &mut Self::Trace<{ __CONSTNET_B }>,
            ) {
                $crate::Layer::forward_train(&self.layers, x, y, trace)
            }

            #[inline]
            fn backward<const __CONSTNET_B: usize>(
                &self,
                x: &[[$t; $input]; __CONSTNET_B],
                y: &[Self::Output; __CONSTNET_B],
                dy: &[Self::Output; __CONSTNET_B],
                trace: &Self::Trace<{ __CONSTNET_B }>,
                grad: &mut Self,
                dx: ::core::option::Option<&mut [[$t; $input]; __CONSTNET_B]>,
            ) {
                $crate::Layer::backward(&self.layers, x, y, dy, trace, &mut grad.layers, dx)
            }

            #[inline]
            fn backward_overwrite<const __CONSTNET_B: usize>(
                &self,
                x: &[[$t; $input]; __CONSTNET_B],
                y: &[Self::Output; __CONSTNET_B],
                dy: &[Self::Output; __CONSTNET_B],
                trace: &Self::Trace<{ __CONSTNET_B }>,
                grad: &mut Self,
                dx: ::core::option::Option<&mut [[$t; $input]; __CONSTNET_B]>,
            ) {
                $crate::Layer::backward_overwrite(&self.layers, x, y, dy, trace, &mut grad.layers, dx)
            }

            fn layer(index: usize) -> ::core::option::Option<$crate::layer::LayerInfo> {
                <$layers as $crate::Layer<[$t; $input]>>::layer(index)
            }
            fn tensor_info(
                index: usize,
                i: usize,
            ) -> ::core::option::Option<$crate::layer::TensorInfo> {
                <$layers as $crate::Layer<[$t; $input]>>::tensor_info(index, i)
            }
            fn setting(&self, index: usize) -> ::core::option::Option<f32> {
                $crate::Layer::<[$t; $input]>::setting(&self.layers, index)
            }
            fn set_setting(&mut self, index: usize, value: f32) -> bool {
                $crate::Layer::<[$t; $input]>::set_setting(&mut self.layers, index, value)
            }
            fn randomize<__CONSTNET_R: $crate::rand::Rng + ?Sized>(
                &mut self,
                rng: &mut __CONSTNET_R,
                force: ::core::option::Option<$crate::Init>,
                next: $crate::Init,
            ) {
                $crate::Layer::<[$t; $input]>::randomize(&mut self.layers, rng, force, next);
                $crate::Network::write_settings(self);
            }
            fn write_types(out: &mut dyn ::core::fmt::Write) -> ::core::fmt::Result {
                out.write_str(::core::stringify!($name))
            }
            fn write_value(&self, out: &mut dyn ::core::fmt::Write) -> ::core::fmt::Result {
                out.write_str(::core::concat!(::core::stringify!($name), "::new("))?;
                $crate::Layer::<[$t; $input]>::write_value(&self.layers, out)?;
                out.write_str(")")
            }
        }

        // SAFETY: the struct's only field is the layers; the bound (made
        // higher-ranked so that it may be false without an error) makes the
        // impl apply only when all-zero layers are valid.
        #[allow(unsafe_code)]
        unsafe impl $crate::bytemuck::Zeroable for $name
        where
            for<'__constnet> $layers: $crate::bytemuck::Zeroable,
        {
        }

        impl ::core::cmp::PartialEq for $name
        where
            for<'__constnet> $layers: ::core::cmp::PartialEq,
        {
            fn eq(&self, other: &Self) -> bool {
                self.layers == other.layers
            }
        }

        impl $crate::format::SaveArray for $name {
            type Bytes = [u8; <$name as $crate::Save>::ENCODED_LEN];
        }

        impl $crate::Tensors<$t> for $name {
            const COUNT: usize = <$layers as $crate::Tensors<$t>>::COUNT;
            const LEN: usize = <$layers as $crate::Tensors<$t>>::LEN;

            fn tensor(&self, i: usize) -> &[$t] {
                <$layers as $crate::Tensors<$t>>::tensor(&self.layers, i)
            }
            fn tensor_mut(&mut self, i: usize) -> &mut [$t] {
                <$layers as $crate::Tensors<$t>>::tensor_mut(&mut self.layers, i)
            }
            #[inline]
            fn for_each_tensor(&self, f: &mut impl FnMut(usize, &[$t])) {
                <$layers as $crate::Tensors<$t>>::for_each_tensor(&self.layers, f);
            }
            #[inline]
            fn for_each_tensor_mut(&mut self, f: &mut impl FnMut(usize, &mut [$t])) {
                <$layers as $crate::Tensors<$t>>::for_each_tensor_mut(&mut self.layers, f);
            }
            #[inline]
            fn all_finite(&self) -> bool {
                <$layers as $crate::Tensors<$t>>::all_finite(&self.layers)
            }
        }

        impl ::core::fmt::Debug for $name
        where
            for<'__constnet> $layers: $crate::Layer<[$t; $input]>,
        {
            /// Prints the layers with their widths, not the parameters:
            /// `Net[Dense<2→8> → Tanh<8> → Dense<8→1>]`.
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::core::concat!(::core::stringify!($name), "["))?;
                $crate::layer::write_layer_list::<[$t; $input], $layers>(f)?;
                f.write_str("]")
            }
        }
    };
}
