"""Print a new ENCRYPTION_KEY: 32 random bytes, base64-encoded, for AES-256-GCM.

    python scripts/generate_encryption_key.py

To rotate: set the printed key as ENCRYPTION_KEY, raise ENCRYPTION_KEY_VERSION by one, and
move the old key to ENCRYPTION_KEYS_PREVIOUS as "<old version>:<old key>". Stored keys are
re-encrypted with the new one as they are read.
"""

import base64
import os


def main() -> None:
    print(base64.b64encode(os.urandom(32)).decode())


if __name__ == "__main__":
    main()
