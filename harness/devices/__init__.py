"""Real device families behind small protocols: pcsc, usb, nfc, instruments, camera."""
