from stancewire.cli import main

raise SystemExit(main())
