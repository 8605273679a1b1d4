"""Pure plotting functions and renderers: rebuilt from saved results, no torch or gymnasium."""
