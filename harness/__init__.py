"""onshi-rig: a hardware-in-the-loop test rig for the face-auth card readers of Japan's
online eligibility system (オンライン資格確認)."""

__version__ = "0.1.0"
