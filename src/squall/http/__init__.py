"""Pure HTTP semantics (RFC 9110, 6265): values and functions, no I/O."""
