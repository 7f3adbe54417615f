"""Template conditions evaluated for parameter values, as CloudFormation does."""

from __future__ import annotations

from typing import Any

from tools.conditions import condition_values, present

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Version": {"Type": "String", "Default": ""},
        "Stage": {"Type": "String", "Default": "dev"},
    },
    "Conditions": {
        "HasVersion": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Version"}, ""]}]},
        "Prod": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "ProdWithVersion": {"Fn::And": [{"Condition": "HasVersion"}, {"Condition": "Prod"}]},
        "Either": {"Fn::Or": [{"Condition": "HasVersion"}, {"Condition": "Prod"}]},
        "InUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
    },
    "Resources": {
        "Always": {"Type": "AWS::SNS::Topic"},
        "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "Condition": "HasVersion"},
        "Regional": {"Type": "AWS::SNS::Topic", "Condition": "InUsEast1"},
    },
}


def test_defaults_apply_where_no_value_is_given() -> None:
    assert condition_values(TEMPLATE, {}) == {
        "HasVersion": False,
        "Prod": False,
        "ProdWithVersion": False,
        "Either": False,
        "InUsEast1": None,
    }


def test_given_values_decide() -> None:
    values = condition_values(TEMPLATE, {"Version": "arn:x", "Stage": "prod"})
    assert values["HasVersion"] and values["ProdWithVersion"] and values["Either"]


def test_resources_under_a_false_condition_are_absent_and_unknown_ones_kept() -> None:
    assert sorted(present(TEMPLATE, {})["Resources"]) == ["Always", "Regional"]
    assert sorted(present(TEMPLATE, {"Version": "arn:x"})["Resources"]) == [
        "Always",
        "Endpoint",
        "Regional",
    ]
    assert "Endpoint" in TEMPLATE["Resources"]  # the template itself is left as it was
