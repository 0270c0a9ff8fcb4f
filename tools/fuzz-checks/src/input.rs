//! Taking fuzzer bytes apart into the parameters a target needs: leading bytes as small numbers
//! and flags, the rest as data. Missing bytes read as 0, so every input means something.

/// Reads parameters off the front of the input.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Bytes to read from.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// The next byte, 0 when none is left.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes as a little-endian number.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// The next eight bytes as a little-endian number.
    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in b.iter_mut() {
            *x = self.byte();
        }
        u64::from_le_bytes(b)
    }

    /// Everything up to the next `sep` (not included; the separator is consumed), or the rest.
    pub fn until(&mut self, sep: u8) -> &'a [u8] {
        match self.data.iter().position(|&b| b == sep) {
            Some(i) => {
                let (part, rest) = self.data.split_at(i);
                self.data = &rest[1..];
                part
            }
            None => self.rest(),
        }
    }

    /// All the bytes left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }

    /// True when every byte was read.
    pub fn rest_is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
