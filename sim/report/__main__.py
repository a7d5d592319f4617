"""``python -m sim.report <dir>`` builds the report of a run or a sweep."""

from sim.report.build import main

if __name__ == "__main__":
    main()
