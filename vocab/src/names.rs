//! Enums whose values travel as names: on the wire, in the database, in a
//! script's JSON. [`named!`](crate::named) writes each name once, beside its
//! variant, and derives from it the serde name, `as_str`, `parse`, `ALL`
//! and `Display`, so the directions cannot drift apart.

/// A value that travels as one of a fixed set of names; every
/// [`named!`](crate::named) enum is one. Storage code reads any of them
/// back through this.
pub trait Named: Copy + 'static {
    /// What the value is, for an error about text that is not one.
    const WHAT: &'static str;
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self>;
}

/// Declares a fieldless enum whose variants are each given their stable
/// name: `Open = "open"`. Attributes (docs, extra derives) pass through.
///
/// ```
/// pyck_vocab::named! {
///     /// A traffic light.
///     pub enum Light {
///         Red = "red",
///         Green = "green",
///     }
/// }
/// assert_eq!(Light::parse("red"), Some(Light::Red));
/// assert_eq!(Light::Green.as_str(), "green");
/// assert_eq!(serde_json::to_string(&Light::Green).unwrap(), "\"green\"");
/// assert_eq!(Light::ALL, [Light::Red, Light::Green]);
/// assert_eq!(format!("[{:<6}]", Light::Red), "[red   ]");
/// ```
#[macro_export]
macro_rules! named {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The stable name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The value of a stable name; `None` for any other text.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl $crate::names::Named for $name {
            const WHAT: &'static str = stringify!($name);
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn parse(s: &str) -> Option<$name> {
                $name::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            /// The stable name, honouring width and alignment (`{:<18}`).
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}
