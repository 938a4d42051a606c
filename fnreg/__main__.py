from fnreg.main import main

main()
