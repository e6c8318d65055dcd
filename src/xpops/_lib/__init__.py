"""Small shared helpers: namespace/device/dtype, validation, missing primitives."""
