"""`make playground`: the synthesized stacks of a config created in a moto server on
127.0.0.1, so that `smkit` can be tried offline (docs/playground.md).

    python -m tools.playground --assembly cdk.out.playground --config FILE [--port N]

The stacks are created the way the deploy rehearsal creates them (tools/rehearsal.py);
what moto's CloudFormation leaves out is filled in through moto's APIs (moto_gaps.py);
the endpoints answer with canned replies (replies.py). It prints the environment that
points `smkit` at the server and runs until Ctrl-C (SIGINT) or SIGTERM; nothing is kept.
"""
