"""Identity's adapters: repositories on the store port, crypto, the signing key ring."""
