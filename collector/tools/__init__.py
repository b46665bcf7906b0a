"""Tools around the collector that no production module imports: the estate simulator."""
