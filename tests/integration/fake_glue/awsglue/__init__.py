"""A stand-in for AWS Glue's `awsglue` package (which exists only on Glue), recording what the job does."""
