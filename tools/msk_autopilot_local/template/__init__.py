"""The SAM template as the local tools use it until a real deployment replaces this: the resolver
(`resolve`), the application's resources created by hand (`resources`) and the offline SAM
transform (`cfn`)."""
