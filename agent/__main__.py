from kitlife.agent.cli import main

main()
