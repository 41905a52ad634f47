//! Small helpers for writing numbers and markup a reader sees.

use tracemark_core::PValue;

/// A p-value for a reader: `0.0312`, `3.1e-41`, or `1.0e-400` (from its logarithm, so
/// values below the smallest double still print).
pub fn p_value(p: &PValue) -> String {
    let l = p.log10();
    if l >= -3.0 {
        let s = format!("{:.4}", p.value());
        return s;
    }
    let mut e = l.floor();
    let mut m = 10f64.powf(l - e);
    if (m * 10.0).round() >= 100.0 {
        m /= 10.0;
        e += 1.0;
    }
    format!("{m:.1}e{}", e as i64)
}

/// A share as a percentage with one decimal: `12.5%`.
pub fn percent(share: f64) -> String {
    let v = (share * 1000.0).round() / 10.0;
    if v.fract() == 0.0 {
        format!("{v:.0}%")
    } else {
        format!("{v:.1}%")
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_print_without_underflow() {
        assert_eq!(p_value(&PValue::new(0.0312)), "0.0312");
        assert_eq!(p_value(&PValue::from_log10(-400.0)), "1.0e-400");
        assert_eq!(p_value(&PValue::new(3.14e-41)), "3.1e-41");
        assert_eq!(p_value(&PValue::new(9.99e-5)), "1.0e-4");
        assert_eq!(p_value(&PValue::ONE), "1.0000");
    }

    #[test]
    fn percentages_and_escaping() {
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}
