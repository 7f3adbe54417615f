"""The approval workflow's runtime: which version each endpoint that follows a model
package group should serve (`versions`), and the workflow's step (`handler`)."""
