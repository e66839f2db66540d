import sys

from ingest_service.lifecycle.cli import main

sys.exit(main())
