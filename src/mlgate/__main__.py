from mlgate.entry import main

raise SystemExit(main())
