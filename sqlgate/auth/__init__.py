"""Authentication: SCRAM-SHA-256 and cleartext exchanges, password verification, the SecurityContext."""
