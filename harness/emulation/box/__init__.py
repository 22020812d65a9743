"""A bench in a box: the emulated bench as a separate process offering only real interfaces
(the relay and the robot on ptys, cameras as MJPEG over HTTP, a sysfs-style USB tree),
described by a ``kind: real`` bench file (``onshi-rig emulate --hardware DIR``)."""
