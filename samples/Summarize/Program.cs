// Summarize a text file with a Hugging Face T5 / flan-t5 / LongT5 folder: load, tokenize, beam search, decode.
// dotnet run --project samples/Summarize -- path/to/flan-t5-folder article.txt [max-new-tokens]
using System;
using System.IO;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Generation;
using CoLT5.Tensors;

if (args.Length is < 2 or > 3)
{
    Console.Error.WriteLine("usage: Summarize MODEL_DIR TEXT_FILE [MAX_NEW_TOKENS]");
    return 2;
}
using var model = Seq2SeqModel.FromPretrained(args[0]);                 // config.json + (sharded) safetensors
var tokenizer = Checkpoint.LoadTokenizer(args[0])                        // the folder's spiece.model
    ?? throw new InvalidOperationException($"{args[0]} has no spiece.model");
model.Eval();

var ids = tokenizer.Encode("summarize: " + File.ReadAllText(args[1]), appendEos: true);
using var input = Tensor.FromArray<int>(ids, new Shape(1, ids.Length));  // (1, n)
var mask = Enumerable.Repeat(true, ids.Length).ToArray();
var options = new GenerationOptions
{
    MaxNewTokens = args.Length == 3 ? int.Parse(args[2]) : 64,
    NumBeams = 4,
};
var result = SequenceGenerator.Generate(model, input, mask, options);
Console.WriteLine(tokenizer.Decode(result.Sequences[0].AsSpan(1)));      // drop the decoder start token
return 0;
