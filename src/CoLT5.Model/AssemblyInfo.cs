// Assembly-level facts of the model library.
[assembly: System.CLSCompliant(false)]
