//! The multi-bit payload a watermark carries.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Diagnose, Fault};

/// The bits a watermark carries beyond "marked": a short code for provider, model and
/// generation. The transparency log resolves it to the full generation record, so a few
/// bits are enough to name a record among those that share a provider key.
///
/// Written as hexadecimal with as many digits as the width needs (`0x` optional when read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PayloadJson", into = "PayloadJson")]
pub struct Payload {
    value: u64,
    bits: u8,
}

/// A payload that does not fit its declared width, or is not hexadecimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("a payload is 1 to 64 bits wide, not {0}")]
    Width(u32),
    #[error("payload {value:#x} does not fit in {bits} bits")]
    TooWide { value: u64, bits: u8 },
    #[error("`{0}` is not a hexadecimal payload")]
    NotHex(String),
}

impl Diagnose for PayloadError {
    fn fault(&self) -> Fault {
        Fault::Input
    }

    fn hint(&self) -> Option<String> {
        match self {
            PayloadError::TooWide { bits, .. } => Some(format!(
                "give at most {} hex digits, or use a key configured for a wider payload",
                bits.div_ceil(4)
            )),
            _ => None,
        }
    }
}

impl Payload {
    pub const MAX_BITS: u8 = 64;

    pub fn new(value: u64, bits: u8) -> Result<Self, PayloadError> {
        if bits == 0 || bits > Self::MAX_BITS {
            return Err(PayloadError::Width(bits.into()));
        }
        if bits < 64 && value >> bits != 0 {
            return Err(PayloadError::TooWide { value, bits });
        }
        Ok(Self { value, bits })
    }

    /// Parses hexadecimal (`beef`, `0xBEEF`) as a payload `bits` wide.
    pub fn from_hex(hex: &str, bits: u8) -> Result<Self, PayloadError> {
        let digits = hex
            .strip_prefix("0x")
            .or_else(|| hex.strip_prefix("0X"))
            .unwrap_or(hex);
        if digits.is_empty() || digits.len() > 16 {
            return Err(PayloadError::NotHex(hex.to_owned()));
        }
        let value =
            u64::from_str_radix(digits, 16).map_err(|_| PayloadError::NotHex(hex.to_owned()))?;
        Self::new(value, bits)
    }

    pub fn value(&self) -> u64 {
        self.value
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Bit `i`, counting from the least significant.
    pub fn bit(&self, i: u8) -> bool {
        i < self.bits && (self.value >> i) & 1 == 1
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = usize::from(self.bits.div_ceil(4));
        write!(f, "{:0width$x}", self.value)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadJson {
    hex: String,
    bits: u8,
}

impl From<Payload> for PayloadJson {
    fn from(p: Payload) -> Self {
        Self {
            hex: p.to_string(),
            bits: p.bits,
        }
    }
}

impl TryFrom<PayloadJson> for Payload {
    type Error = PayloadError;

    fn try_from(json: PayloadJson) -> Result<Self, Self::Error> {
        Payload::from_hex(&json.hex, json.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_many_hex_digits_as_the_width_needs() {
        assert_eq!(Payload::new(0xbeef, 16).unwrap().to_string(), "beef");
        assert_eq!(Payload::new(0x0f, 16).unwrap().to_string(), "000f");
        assert_eq!(Payload::new(5, 3).unwrap().to_string(), "5");
        assert_eq!(
            Payload::new(u64::MAX, 64).unwrap().to_string(),
            "ffffffffffffffff"
        );
    }

    #[test]
    fn rejects_values_that_do_not_fit() {
        assert_eq!(
            Payload::from_hex("1ffff", 16),
            Err(PayloadError::TooWide {
                value: 0x1ffff,
                bits: 16
            })
        );
        assert!(Payload::new(8, 3).is_err());
        assert!(Payload::new(0, 0).is_err());
        assert!(Payload::new(0, 65).is_err());
        for bad in ["", "0x", "xyz", "-1", "1 2", &"f".repeat(17)] {
            assert!(Payload::from_hex(bad, 64).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn round_trips_through_json_and_checks_width() {
        let p = Payload::from_hex("0xBEEF", 24).unwrap();
        assert_eq!(p.value(), 0xbeef);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"hex":"00beef","bits":24}"#);
        assert_eq!(serde_json::from_str::<Payload>(&json).unwrap(), p);
        assert!(serde_json::from_str::<Payload>(r#"{"hex":"1ff","bits":8}"#).is_err());
        assert!(p.bit(0) && !p.bit(4) && !p.bit(40));
    }
}
