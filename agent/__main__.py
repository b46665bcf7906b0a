from kitlife.agent.entry import main

main()
