"""The AWS Glue job of cdc_migrate (also runs with a plain spark-submit): cdc_migrate.cli.glue_job."""

import sys

from cdc_migrate.cli.glue_job import main

if __name__ == "__main__":
    sys.exit(main())
