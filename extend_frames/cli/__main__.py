import sys

from extend_frames.cli import main

sys.exit(main())
