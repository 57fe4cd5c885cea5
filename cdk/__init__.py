"""StreamForge on AWS: the CDK constructs, composed by `cdk.stack.StreamForgeStack`."""
