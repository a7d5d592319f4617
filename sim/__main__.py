"""``python -m sim`` runs the same Hydra app as the ``nhsim`` console script."""

from sim.cli.app import main

if __name__ == "__main__":
    main()
