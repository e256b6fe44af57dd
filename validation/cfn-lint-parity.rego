package iot_platform

import rego.v1

# Template checks that cfn-lint makes and CloudFormation's validation engine (which `cdk synth` runs with
# @aws-cdk/core:validateAgainstDefaultRules) does not, or makes more narrowly on CDK's output, for the resource types
# this app uses. They let the engine be the only template-validation pass of the synth step: cfn-lint cost 8-13 s of
# CPU per synth for the same checks (measured on this app; see docs/platform.md, "Template validation"). Registered by
# lib/compliance.add_template_checks; an ERROR fails `cdk synth` like any other validation finding, and is
# acknowledged the same way (`CloudFormation-Validate::IOT-00n`).
#
# Each rule fires only on literal values (a value still an intrinsic is skipped: no false positives). The engine
# provides resources_of_type and make_diag_at; properties are resolved, references as {"__ref": ..., "__kind": ...}.
#
#   rule     cfn-lint     what
#   IOT-001  E3042        a task definition has at least one essential container
#   IOT-002  E3053        awsvpc: HostPort equals ContainerPort
#   IOT-003  E3048/E3713  Fargate log drivers only
#   IOT-004  E3046        awslogs needs awslogs-group
#   IOT-005  E3681/E3683/E3684 TCP target-group health checks take no path or matcher
#   IOT-006  E3615        alarm Period is 10, 20, 30 or a multiple of 60
#   IOT-007  E3002        IPv4 CIDR format of ingress rules
#   IOT-008  E3064        one private-DNS endpoint per service and VPC
#   IOT-009  E3530        trust-policy statement keys
#   IOT-010  E3701        a pipeline's input artifacts are produced earlier
#   IOT-011  E3703        CloudFormation actions' TemplatePath names an input
#   IOT-012  E3703        CloudFormation actions' RoleArn is a role ARN
#   IOT-013  E1158        SNS subscriptions' TopicArn is an ARN
#   IOT-014  E3688        security-group port -1 comes in pairs

props(name) := object.get(input.resources[name], "properties", {})

num(x) := x if is_number(x)
num(x) := to_number(x) if {
	is_string(x)
	regex.match(`^[0-9]+$`, x)
}

violation contains make_diag_at("IOT-001", "ERROR", name, "Properties.ContainerDefinitions",
	"at least one container must be essential") if {
	some name in resources_of_type("AWS::ECS::TaskDefinition")
	cds := props(name).ContainerDefinitions
	is_array(cds)
	count([c | some c in cds; object.get(c, "Essential", true) != false]) == 0
}

violation contains make_diag_at("IOT-002", "ERROR", name, sprintf("Properties.ContainerDefinitions.%d.PortMappings.%d.HostPort", [i, j]),
	sprintf("HostPort %v must equal ContainerPort %v with NetworkMode awsvpc", [pm.HostPort, pm.ContainerPort])) if {
	some name in resources_of_type("AWS::ECS::TaskDefinition")
	props(name).NetworkMode == "awsvpc"
	some i, c in props(name).ContainerDefinitions
	some j, pm in object.get(c, "PortMappings", [])
	is_number(pm.HostPort)
	is_number(pm.ContainerPort)
	pm.HostPort != pm.ContainerPort
}

violation contains make_diag_at("IOT-003", "ERROR", name, sprintf("Properties.ContainerDefinitions.%d.LogConfiguration.LogDriver", [i]),
	sprintf("log driver %v is not supported on Fargate (awslogs, splunk, awsfirelens)", [d])) if {
	some name in resources_of_type("AWS::ECS::TaskDefinition")
	"FARGATE" in object.get(props(name), "RequiresCompatibilities", [])
	some i, c in props(name).ContainerDefinitions
	d := c.LogConfiguration.LogDriver
	is_string(d)
	not d in {"awslogs", "splunk", "awsfirelens"}
}

violation contains make_diag_at("IOT-004", "ERROR", name, sprintf("Properties.ContainerDefinitions.%d.LogConfiguration.Options", [i]),
	"awslogs log driver requires the awslogs-group option") if {
	some name in resources_of_type("AWS::ECS::TaskDefinition")
	some i, c in props(name).ContainerDefinitions
	c.LogConfiguration.LogDriver == "awslogs"
	not c.LogConfiguration.Options["awslogs-group"]
}

violation contains make_diag_at("IOT-005", "ERROR", name, "Properties.HealthCheckProtocol",
	"a TCP health check cannot set HealthCheckPath or Matcher") if {
	some name in resources_of_type("AWS::ElasticLoadBalancingV2::TargetGroup")
	p := props(name)
	p.HealthCheckProtocol in {"TCP", "TLS", "UDP", "TCP_UDP"}
	some k in ["HealthCheckPath", "Matcher"]
	p[k]
}

violation contains make_diag_at("IOT-006", "ERROR", name, "Properties.Period",
	sprintf("alarm Period %v must be 10, 20, 30 or a multiple of 60", [n])) if {
	some name in resources_of_type("AWS::CloudWatch::Alarm")
	n := num(props(name).Period)
	not n in {10, 20, 30}
	n % 60 != 0
}

violation contains make_diag_at("IOT-007", "ERROR", name, "Properties.CidrIp",
	sprintf("CidrIp %v is not a valid IPv4 CIDR", [c])) if {
	some name in resources_of_type("AWS::EC2::SecurityGroupIngress")
	c := props(name).CidrIp
	is_string(c)
	not valid_cidr(c)
}

valid_cidr(c) if {
	regex.match(`^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}/([0-9]|[12][0-9]|3[0-2])$`, c)
}

violation contains make_diag_at("IOT-014", "ERROR", name, sprintf("Properties.%s.%d", [list, i]),
	"when FromPort or ToPort is -1 the other must be -1 too") if {
	some name in resources_of_type("AWS::EC2::SecurityGroup")
	some list in ["SecurityGroupIngress", "SecurityGroupEgress"]
	some i, r in object.get(props(name), list, [])
	is_number(r.FromPort)
	is_number(r.ToPort)
	count({p | some p in [r.FromPort, r.ToPort]; p == -1}) == 1
}

violation contains make_diag_at("IOT-008", "ERROR", name, "Properties.PrivateDnsEnabled",
	sprintf("another endpoint for %v in the same VPC already enables private DNS (%v)", [svc, other])) if {
	some name in resources_of_type("AWS::EC2::VPCEndpoint")
	p := props(name)
	p.PrivateDnsEnabled == true
	svc := p.ServiceName
	is_string(svc)
	some other in resources_of_type("AWS::EC2::VPCEndpoint")
	other < name
	q := props(other)
	q.PrivateDnsEnabled == true
	q.ServiceName == svc
	q.VpcId == p.VpcId
}

violation contains make_diag_at("IOT-009", "ERROR", name, sprintf("Properties.AssumeRolePolicyDocument.Statement.%d.%s", [i, k]),
	sprintf("trust policy statements cannot have %v", [k])) if {
	some name in resources_of_type("AWS::IAM::Role")
	some i, st in props(name).AssumeRolePolicyDocument.Statement
	some k in object.keys(st)
	not k in {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition"}
}

pipeline_actions(name) := [[si, ai, a] |
	some si, s in props(name).Stages
	some ai, a in s.Actions
]

# Artifacts available to an action: outputs of every action in an earlier stage or with a lower RunOrder.
violation contains make_diag_at("IOT-010", "ERROR", name, sprintf("Properties.Stages.%d.Actions.%d.InputArtifacts", [si, ai]),
	sprintf("input artifact %v is not an output of an earlier action", [art])) if {
	some name in resources_of_type("AWS::CodePipeline::Pipeline")
	acts := pipeline_actions(name)
	some [si, ai, a] in acts
	some ia in object.get(a, "InputArtifacts", [])
	art := ia.Name
	is_string(art)
	produced := {o.Name |
		some [sj, _, b] in acts
		earlier(sj, b, si, a)
		some o in object.get(b, "OutputArtifacts", [])
	}
	not art in produced
}

earlier(sj, _, si, _) if sj < si

earlier(sj, b, si, a) if {
	sj == si
	object.get(b, "RunOrder", 1) < object.get(a, "RunOrder", 1)
}

violation contains make_diag_at("IOT-011", "ERROR", name, sprintf("Properties.Stages.%d.Actions.%d.Configuration.TemplatePath", [si, ai]),
	sprintf("TemplatePath %v does not start with an input artifact name", [tp])) if {
	some name in resources_of_type("AWS::CodePipeline::Pipeline")
	some [si, ai, a] in pipeline_actions(name)
	tp := a.Configuration.TemplatePath
	is_string(tp)
	inputs := {ia.Name | some ia in object.get(a, "InputArtifacts", [])}
	artifact := split(tp, "::")[0]
	not artifact in inputs
}

violation contains make_diag_at("IOT-012", "ERROR", name, sprintf("Properties.Stages.%d.Actions.%d.Configuration.RoleArn", [si, ai]),
	sprintf("action Configuration.RoleArn %v is not an IAM role ARN", [r])) if {
	some name in resources_of_type("AWS::CodePipeline::Pipeline")
	some [si, ai, a] in pipeline_actions(name)
	r := a.Configuration.RoleArn
	is_string(r)
	not regex.match(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$`, r)
}

violation contains make_diag_at("IOT-013", "ERROR", name, "Properties.TopicArn",
	sprintf("TopicArn %v is not an SNS topic ARN", [t])) if {
	some name in resources_of_type("AWS::SNS::Subscription")
	t := props(name).TopicArn
	is_string(t)
	not startswith(t, "arn:")
}
