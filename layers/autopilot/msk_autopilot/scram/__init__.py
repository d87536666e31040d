"""SCRAM secret rotation for MSK, and a minimal SASL/SCRAM-SHA-512 client to check credentials."""
