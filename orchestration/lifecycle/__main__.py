import sys

from orchestration.lifecycle.cli import main

sys.exit(main())
