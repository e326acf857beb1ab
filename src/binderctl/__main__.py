from binderctl.cli import main

raise SystemExit(main())
