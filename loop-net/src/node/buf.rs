//! [`Buf`]: what [`Socket::write`](super::Socket::write) and `end_with`
//! take, so that `&str`, `String`, `Vec<u8>`, `&[u8]`, `b"…"` and
//! `Cow<[u8]>` all go in without a conversion at the call.
//!
//! Invariant: an owned buffer (`Vec<u8>`, `String`, `Box<[u8]>`) stays
//! owned, so a write that has to queue keeps it without copying; a
//! borrowed one is copied only if it has to queue.

use std::borrow::Cow;

/// Bytes to write: borrowed or owned. Made with `.into()` from `&str`,
/// `String`, `&String`, `&[u8]`, `&[u8; N]`, `Vec<u8>`, `&Vec<u8>`,
/// `Box<[u8]>` or `Cow<[u8]>`.
///
/// ```
/// use loop_net::Buf;
///
/// fn len<'a>(b: impl Into<Buf<'a>>) -> usize { b.into().as_bytes().len() }
/// assert_eq!(len("hi\n"), 3);
/// assert_eq!(len(String::from("hi")), 2);
/// assert_eq!(len(b"abc"), 3);
/// assert_eq!(len(vec![0u8; 4]), 4);
/// assert_eq!(len(&[1u8, 2][..]), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buf<'a>(pub(crate) Cow<'a, [u8]>);

impl<'a> Buf<'a> {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as a `Cow`: owned if they were given owned.
    pub fn into_cow(self) -> Cow<'a, [u8]> {
        self.0
    }
}

impl<'a> From<Cow<'a, [u8]>> for Buf<'a> {
    fn from(c: Cow<'a, [u8]>) -> Self {
        Buf(c)
    }
}

impl<'a> From<&'a [u8]> for Buf<'a> {
    fn from(b: &'a [u8]) -> Self {
        Buf(Cow::Borrowed(b))
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Buf<'a> {
    fn from(b: &'a [u8; N]) -> Self {
        Buf(Cow::Borrowed(b))
    }
}

impl<'a> From<&'a Vec<u8>> for Buf<'a> {
    fn from(b: &'a Vec<u8>) -> Self {
        Buf(Cow::Borrowed(b))
    }
}

impl From<Vec<u8>> for Buf<'_> {
    fn from(b: Vec<u8>) -> Self {
        Buf(Cow::Owned(b))
    }
}

impl From<Box<[u8]>> for Buf<'_> {
    fn from(b: Box<[u8]>) -> Self {
        Buf(Cow::Owned(b.into_vec()))
    }
}

impl<'a> From<&'a str> for Buf<'a> {
    fn from(s: &'a str) -> Self {
        Buf(Cow::Borrowed(s.as_bytes()))
    }
}

impl<'a> From<&'a String> for Buf<'a> {
    fn from(s: &'a String) -> Self {
        Buf(Cow::Borrowed(s.as_bytes()))
    }
}

impl From<String> for Buf<'_> {
    fn from(s: String) -> Self {
        Buf(Cow::Owned(s.into_bytes()))
    }
}
