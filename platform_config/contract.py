"""The processor container's contract, as the CDK app (lib/processing_service.py) and the local emulator see it.

Defined once, by the image that reads it (services/processor/processor/contract.py: standard library only, so it
ships in the image without this repository's config package); re-exported here beside the other shared names.
"""

from processor.contract import *  # noqa: F403 - the whole contract, under its own names
