"""Shops that push orders in: signature checks and payload mappings, one module per shop."""
