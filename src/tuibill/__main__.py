from tuibill.cli.main import main

raise SystemExit(main())
