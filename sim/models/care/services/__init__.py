"""One module per setting: general practice, community (SNP), MNP services, hospital."""
