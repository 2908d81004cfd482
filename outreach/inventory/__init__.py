"""Supply inventory: an append-only stock ledger by site, item and lot."""
