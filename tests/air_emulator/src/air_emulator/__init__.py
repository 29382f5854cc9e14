"""Local emulator of the NVIDIA Air v3 images API.

The control plane (``/api/v3/...`` and the ``/_emulator/`` admin API) is a
FastAPI application; the data plane (presigned part uploads) is either a
streaming part store served on its own port, like S3 is its own host, or a
real S3 endpoint (``--s3-endpoint``).
"""

__version__ = "0.1.0"
