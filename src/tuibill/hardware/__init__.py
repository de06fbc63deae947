"""Device layer: one interface per device, a real backend and an emulated one."""
