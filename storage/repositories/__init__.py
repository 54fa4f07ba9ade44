"""Data access, one module per aggregate. Functions take a session and never commit."""
