//! The static word-piece vectors of `find_tool`'s semantic mode live in the leaf module
//! [`crate::wordvec`], which the poisoning classifier shares; this name is kept for `meta`.

pub use crate::wordvec::{SemanticError, StaticVectors, dot};
