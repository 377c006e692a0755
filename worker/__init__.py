"""The RQ worker: Salesforce connector and the jobs that write call activity to Salesforce."""
