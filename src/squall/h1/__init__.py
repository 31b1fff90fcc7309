"""The HTTP/1.1 wire (RFC 9112) without I/O: request parsing and response framing."""
