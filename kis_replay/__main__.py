from kis_replay.cli import main

main()
