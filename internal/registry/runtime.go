package registry

import (
	"slices"
	"strings"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// awsRuntimes are the runtimes AWS lets a function be created with, in
// the order AWS's validation message lists them (recorded: LocalStack's
// test_lambda_api snapshot, test_create_lambda_exceptions invalid_runtime_exc).
var awsRuntimes = []string{
	"nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x", "nodejs22.x",
	"java25", "python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4", "ruby3.2", "python3.8", "python3.9",
	"java17", "nodejs16.x", "dotnet10", "dotnet8", "java11", "dotnet6", "nodejs18.x", "provided.al2", "java8.al2",
}

// awsRuntimeList is awsRuntimes as AWS prints the enum.
var awsRuntimeList = "[" + strings.Join(awsRuntimes, ", ") + "]"

// deprecatedRuntimes are the values of the Runtime enum of botocore's
// Lambda model that AWS no longer accepts for creating or updating a
// function (the enum minus awsRuntimes).
var deprecatedRuntimes = map[string]bool{
	"nodejs": true, "nodejs4.3": true, "nodejs4.3-edge": true, "nodejs6.10": true, "nodejs8.10": true,
	"nodejs10.x": true, "nodejs12.x": true, "nodejs14.x": true, "java8": true, "python2.7": true,
	"python3.6": true, "python3.7": true, "dotnetcore1.0": true, "dotnetcore2.0": true,
	"dotnetcore2.1": true, "dotnetcore3.1": true, "go1.x": true, "ruby2.5": true, "ruby2.7": true,
	"provided": true,
}

// runsHere reports whether this host can start functions of runtime rt:
// an OS-only runtime (any bootstrap) or a Python or Node.js one, which
// use the host's python3 and node.
func runsHere(rt string) bool {
	return providedRuntimeRE.MatchString(rt) || pythonRuntimeRE.MatchString(rt) || nodeRuntimeRE.MatchString(rt)
}

// checkRuntime checks a Runtime parameter as AWS does, then whether this
// host can run it:
//   - a name AWS does not know gets AWS's enum message;
//   - a deprecated one gets AWS's deprecation message (recorded:
//     test_create_deprecated_function_runtime_with_validation_enabled);
//   - one AWS accepts but this host cannot run (Java, .NET, Ruby) gets
//     updraft's own message in AWS's shape, a deliberate difference
//     listed in docs/architecture.md.
func checkRuntime(rt string) error {
	known := slices.Contains(awsRuntimes, rt)
	switch {
	case !known && !deprecatedRuntimes[rt]:
		return lambdaerr.InvalidParameterValue("Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: %s or be a valid ARN", rt, awsRuntimeList)
	case !known:
		return lambdaerr.InvalidParameterValue("The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.", rt)
	case !runsHere(rt):
		return lambdaerr.InvalidParameterValue("The runtime parameter of %s is not supported by this server, which runs provided.al2023, provided.al2, python3.x and nodejsNN.x functions. We recommend you use a supported runtime while creating or updating functions.", rt)
	}
	return nil
}

// knownRuntime reports whether rt is a value of AWS's Runtime enum,
// deprecated or not (a layer may name any of them).
func knownRuntime(rt string) bool {
	return slices.Contains(awsRuntimes, rt) || deprecatedRuntimes[rt]
}
