"""Geography helpers: coordinates, PostGIS conversion and maps (a leaf package)."""
