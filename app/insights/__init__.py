"""The unmet-demand radar (h3 cells, incremental roll-ups, k-anonymity) and the merchant's dashboards."""
